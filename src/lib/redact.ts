import { REDACTED, isSecret, redactKnownValues } from './secret.ts';

/**
 * Keys whose values are secret whatever they look like. Matched on the key
 * name with separators removed, case-insensitively. Public material
 * (publicKey, keyId, serial) is deliberately not matched.
 */
const SECRET_KEY_PATTERN =
  /^(password|passwd|pass|pwd|secret|clientsecret|token|accesstoken|refreshtoken|idtoken|ott|apikey|xapikey|privatekey|keymaterial|keypem|authorization|proxyauthorization|cookie|setcookie|credentials?|unsealkey|unsealkeys|keysb64|recoverykey|otp|nonce|hmac|signingkey|dkimprivatekey|passphrase|sessionid|sessiontoken|xvaulttoken)$/;

/** Keys whose values are secret because of what they end in (`adminPassword`, `telegraf_secret`). */
const SECRET_SUFFIX_PATTERN = /(password|passwd|secret|token|privatekey|apikey|passphrase)$/;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_.\s]/g, '');
  return SECRET_KEY_PATTERN.test(k) || SECRET_SUFFIX_PATTERN.test(k);
}

const SECRET_QUERY_PARAMS = /^(token|access_token|api_key|apikey|key|password|secret|sig|signature|x-amz-signature|code|ott)$/i;

/** Removes the password of `user:pass@` and the value of secret-looking query parameters from URLs inside `text`. */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@'"<>]+)@/gi, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  }).replace(/([?&])([^=&\s#'"]+)=([^&\s#'"]*)/g, (m, sep: string, name: string) =>
    SECRET_QUERY_PARAMS.test(name) ? `${sep}${name}=${REDACTED}` : m);
}

/** A URL with userinfo (`://`), a query parameter (`=`), a PEM block, an Authorization value. */
const MAY_HOLD_CREDENTIALS = /:\/\/|=|-----BEGIN|Bearer|Basic/;

/** Redacts a string: registered secret values, then URL credentials, then PEM private keys and bearer tokens. */
export function redactText(text: string): string {
  const known = redactKnownValues(text);
  // What the patterns below look for cannot be there without one of these (most stored strings: ids, names, states).
  if (!MAY_HOLD_CREDENTIALS.test(known)) return known;
  return redactUrls(known)
    .replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, `-----BEGIN $1PRIVATE KEY-----${REDACTED}-----END $1PRIVATE KEY-----`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`);
}

/**
 * Deep copy of `value` with secrets removed: Secret instances, values under
 * secret-looking keys, credentials in URLs and every registered secret value.
 * Cycles are cut; Errors become {name, message, code}.
 */
export function redact(value: unknown): unknown {
  return redactInner(value, new WeakSet());
}

function redactInner(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (isSecret(value)) return REDACTED;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: redactText(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out['code'] = code;
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redactInner(v, seen));
  if (value instanceof Map) {
    return redactInner(Object.fromEntries(value), seen);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined && typeof v !== 'boolean' ? REDACTED : redactInner(v, seen);
  }
  return out;
}
