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

/** Key names seen so far and whether they are secret (bounded: keys can be data, such as device ids). */
const secretKeyCache = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let secret = secretKeyCache.get(key);
  if (secret === undefined) {
    const k = key.toLowerCase().replace(/[-_.\s]/g, '');
    secret = SECRET_KEY_PATTERN.test(k) || SECRET_SUFFIX_PATTERN.test(k);
    if (secretKeyCache.size >= 4096) secretKeyCache.clear();
    secretKeyCache.set(key, secret);
  }
  return secret;
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
 * `value` with secrets removed: Secret instances, values under
 * secret-looking keys, credentials in URLs and every registered secret value.
 * Cycles are cut; Errors become {name, message, code}; class instances become
 * plain objects of their own enumerable properties. Plain objects and arrays
 * with nothing to remove are returned as they are (most stored values), so
 * treat the result as read-only.
 */
export function redact(value: unknown): unknown {
  return redactInner(value, []);
}

function redactInner(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (isSecret(value)) return REDACTED;
  if (ancestors.includes(value)) return '[Circular]';
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: redactText(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out['code'] = code;
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Map) return redactInner(Object.fromEntries(value), ancestors);
  ancestors.push(value);
  try {
    return Array.isArray(value) ? redactArray(value, ancestors) : redactObject(value as Record<string, unknown>, ancestors);
  } finally {
    ancestors.pop();
  }
}

/** The array itself when no element changes, else a copy. */
function redactArray(value: readonly unknown[], ancestors: object[]): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const r = redactInner(v, ancestors);
    if (out === undefined && r !== v) out = value.slice(0, i);
    out?.push(r);
  }
  return out ?? (value as unknown[]);
}

/** A plain object itself when no member changes, else a plain copy (always one for a class instance: its toJSON may reveal). */
function redactObject(value: Record<string, unknown>, ancestors: object[]): Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  const plain = proto === Object.prototype || proto === null;
  const keys = Object.keys(value);
  let out: Record<string, unknown> | undefined = plain ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = value[k];
    const r = v !== null && v !== undefined && typeof v !== 'boolean' && isSecretKey(k) ? REDACTED : redactInner(v, ancestors);
    if (out === undefined && r !== v) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j] as string] = value[keys[j] as string];
    }
    if (out !== undefined) out[k] = r;
  }
  return out ?? value;
}
