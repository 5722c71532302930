# The jq baseline of the Vault audit assessment: the aggregates of
# docs/assess.md (for `--all`, the default tenant patterns, no allow-list), in
# one streaming pass over raw lines, printed in the answer's shape
# (bench/assess/log-answer.ts). jq 1.6; regular expressions are avoided on the
# hot path (jq compiles one at each call).
#
#   jq -R -n -c -f bench/assess/jq-baseline.jq FILE

def usable: type == "string" and . != "" and ((startswith("*") and (explode | all(. == 42))) | not);
def has_root: any(.[]?; . == "root");
def str: if type == "string" then . else "" end;

# The kinds of suspicious event of the operation entry $e stands for, as type $t.
def kinds($e; $t; $p):
  ($e.error | str) as $err
  | ($e.request.operation) as $op
  | ($err | contains("permission denied")) as $pd
  | ($err | contains("missing client token")) as $mt
  | ($err | contains("invalid token")) as $it
  | ($err | contains("unsupported path")) as $up
  | ($op == "create" or $op == "update" or $op == "delete") as $mut
  | [ if $pd or ($e.auth.policy_results.allowed == false) then "permission-denied" else empty end,
      if $mt then "token-missing" else empty end,
      if $it then "token-invalid" else empty end,
      if $up then "unsupported-path" else empty end,
      if $err != "" and ($pd or $mt or $it or $up | not) then "error-other" else empty end,
      if ($p | startswith("auth/")) and ($p | test("^auth/[^/]+/login(/[^/]+)?$"))
         and (if $t == "response" then $e.response.auth == null else $err != "" end) then "failed-login" else empty end,
      if ($e.auth.policies | has_root) or ($e.auth.token_policies | has_root) then "root-policy" else empty end,
      if $mut and (($p | startswith("sys/policy/")) or ($p | startswith("sys/policies/acl/")) or ($p | startswith("sys/policies/rgp/")) or ($p | startswith("sys/policies/egp/"))) then "policy-change" else empty end,
      if $mut and (($p | startswith("sys/audit/")) or ($p | startswith("sys/config/auditing/")))
         and ($t == "request" and $p == "sys/audit/test" and ($e.request.remote_address | str) == "" | not) then "audit-change" else empty end,
      if $mut and ($p | startswith("sys/auth/")) then "auth-change" else empty end ];

# "read", "list" or null: a successful read or list on a KV mount (docs/assess.md, "Secrets read").
def secret_action($e; $p):
  ($e.request.operation) as $op
  | if ($e.error | str) != "" or ($op != "read" and $op != "list") then null
    elif ($p | startswith("sys/")) or ($p | startswith("auth/")) or ($p | startswith("cubbyhole/")) then null
    else
      ($p | split("/")) as $s
      # With request.mount_type (>= 1.5) only a kv mount: its mount_point (>= 1.13) or the first segment;
      # without (older logs), a first segment followed by data/ or metadata/ (v2), or secret/ (v1).
      | (if ($e.request.mount_type | type) == "string" then
           (if $e.request.mount_type != "kv" then null
            elif ($e.request.mount_point | str) != "" then $e.request.mount_point
            else $s[0] + "/" end)
         elif ($s | length) >= 3 and ($s[1] == "data" or $s[1] == "metadata") then $s[0] + "/"
         elif $s[0] == "secret" then "secret/"
         else null end) as $mount
      | if $mount == null or ($p | startswith($mount) | not) then null
        else ($p[($mount | length):]) as $rest
          | if ($rest | startswith("data/")) then (if $op == "read" then "read" else null end)
            elif ($rest | startswith("metadata/")) then (if $op == "list" then "list" else null end)
            else $op end
        end
    end;

# The tenant of a path by the default patterns ({tenant} one segment, a trailing * any rest), or null.
def tenant:
  split("/") as $s
  | if ($s | length) >= 5 and $s[0] == "secret" and ($s[1] == "data" or $s[1] == "metadata") and $s[2] == "tenants" and $s[3] != "" then $s[3]
    elif ($s | length) >= 3 and $s[0] == "api_keys" and $s[1] != "" then $s[1]
    else null end;

# A raw line, classified (with nothing of the state as input): blank, a problem, another type, or an
# entry with all the operation it stands for needs: its kinds, its secret action, path and tenant.
def fullpath($e): (($e.request.namespace.path) // "" | str) + ($e.request.path | str);
def classify:
  (if startswith("{") then 0 else index("{") end) as $b
  | if $b == null and test("^\\s*$") then { x: "blank" }
    else (if $b == null then null elif $b == 0 then (try fromjson catch null) else (.[$b:] | try fromjson catch null) end) as $e
      | if ($e | type) != "object" then { x: "problem" }
        elif $e.type != "request" and $e.type != "response" then { x: "other", t: ($e.type | tostring) }
        else $e.type as $t
          | fullpath($e) as $p
          | (if $t == "response" then secret_action($e; $p) else null end) as $a
          | { x: "entry", t: $t, id: (if $e.request.id | usable then $e.request.id else null end), k: kinds($e; $t; $p), a: $a, p: $p,
              tn: (if $a == null then null else $p | tenant end) }
        end
    end;

# jq 1.6 copies an object it updates while anything else refers to it: `+=` does (it keeps the old
# value), a nested `.a[$k] = v` does (it holds `.a`), and so does any `try`, `?` or `//` left pending
# under the update. So every line is classified before the state sees it, the big maps live in the
# state's top level under prefixes ("p:" paths read, "q:" pending requests, "s:" responses seen, "r:"
# the ring of the last 65,536 of them), and every update is a plain `=`: each costs O(1), not the
# state's size.
def tally($k):
  .ops = .ops + 1
  | if ($k | length) > 0 then .susp = .susp + 1 | reduce $k[] as $x (.; .kinds[$x] = .kinds[$x] + 1) else . end;

def operation($r):
  tally($r.k)
  | if $r.a == null then .
    else (if $r.a == "read" then .reads = .reads + 1 else .lists = .lists + 1 end)
      | .["p:" + $r.p] = 1
      | if $r.tn == null then .
        else .ten[$r.tn].r = (.ten[$r.tn].r + (if $r.a == "read" then 1 else 0 end))
          | .ten[$r.tn].l = (.ten[$r.tn].l + (if $r.a == "list" then 1 else 0 end))
          | .ten[$r.tn].p[$r.p] = 1
        end
    end;

reduce (inputs | classify) as $r (
  { lines: 0, req: 0, resp: 0, other: {}, problems: 0, ops: 0, reqonly: 0, noid: 0, susp: 0, reads: 0, lists: 0, ri: 0, ten: {},
    kinds: { "permission-denied": 0, "token-missing": 0, "token-invalid": 0, "unsupported-path": 0, "error-other": 0, "failed-login": 0,
             "remote-not-allowed": 0, "root-policy": 0, "policy-change": 0, "audit-change": 0, "auth-change": 0 } };
  .lines = .lines + 1
  | if $r.x == "blank" then .
    elif $r.x == "problem" then .problems = .problems + 1
    elif $r.x == "other" then .other[$r.t] = (.other[$r.t] + 1)
    else (if $r.t == "request" then .req = .req + 1 else .resp = .resp + 1 end)
      | if $r.id == null then .noid = .noid + 1 | operation($r)
        elif $r.t == "request" then (if .["q:" + $r.id] != null or .["s:" + $r.id] != null then . else .["q:" + $r.id] = $r.k end)
        elif .["s:" + $r.id] != null then .
        else .["r:\(.ri)"] as $old
          | (if $old != null then del(.["s:" + $old]) else . end)
          | .["s:" + $r.id] = 1 | .["r:\(.ri)"] = $r.id | .ri = ((.ri + 1) % 65536)
          | del(.["q:" + $r.id])
          | operation($r)
        end
    end)
# The requests whose response never came: operations of their own, at the end.
| reduce (to_entries[] | select(.key | startswith("q:")) | .value) as $k (.; tally($k) | .reqonly = .reqonly + 1)
| ([keys[] | select(startswith("p:"))] | length) as $distinct
| (.ten | to_entries | map({ tenant: .key, reads: (.value.r // 0), lists: (.value.l // 0), paths: (.value.p | length) }) | sort_by(.tenant)) as $aff
| { input: { lines, entries: { request: .req, response: .resp }, otherTypes: .other, problems: { total: .problems },
             operations: { all: .ops, inWindow: .ops, requestOnly: .reqonly, withoutId: .noid } },
    suspicious: { total: .susp, byKind: .kinds, allowListChecked: false },
    secretsRead: { reads, lists, distinctPaths: $distinct },
    tenants: { affected: $aff, threshold: 10, scope: (if ($aff | length) > 10 then "widespread" elif ($aff | length) > 0 then "limited" else "none" end) } }
