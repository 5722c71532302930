// Command step-ca-launcher starts a step-ca server from a ca.json, reading the
// password of the CA's intermediate key from a file (never the command line).
// Debian ships step-ca's Go library without its cmd/step-ca; this is the
// smallest main that runs it. Built by scripts/setup.d/20-step-ca.sh.
//
//	step-ca-launcher <ca.json> <password-file>
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/smallstep/certificates/authority/config"
	"github.com/smallstep/certificates/ca"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: step-ca-launcher <ca.json> <password-file>")
		os.Exit(2)
	}
	cfg, err := config.LoadConfiguration(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load configuration:", err)
		os.Exit(1)
	}
	password, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "read password file:", err)
		os.Exit(1)
	}
	srv, err := ca.New(cfg, ca.WithConfigFile(os.Args[1]), ca.WithPassword([]byte(strings.TrimRight(string(password), "\r\n"))))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start CA:", err)
		os.Exit(1)
	}
	if err := srv.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "run CA:", err)
		os.Exit(1)
	}
}
