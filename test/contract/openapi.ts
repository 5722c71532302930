import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

type Json = Record<string, unknown>;

/** OpenAPI 3.0 `nullable: true` → JSON Schema `type: [t, 'null']`, so one validator serves 3.0 and 3.1 documents. */
function normalise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = normalise(v);
  if (out['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  // Vendor specs use oneOf where the branches overlap (ThingsBoard's 401: the
  // credentials-expired body is the error body plus optional fields), so a
  // real server's body matches both; read oneOf as anyOf.
  if (Array.isArray(out['oneOf'])) { out['anyOf'] = out['oneOf']; delete out['oneOf']; }
  return out;
}

/** One JSON-pointer segment, escaped for a URI fragment (`{deviceId}` braces included). */
function segment(s: string): string {
  return encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/**
 * Validates bodies against the response schemas of a vendor's own OpenAPI
 * document (read in place from ../shared/specs), resolving its $refs.
 */
export class OpenApiContract {
  readonly doc: Json;
  readonly #ajv: Ajv2020;

  constructor(path: string) {
    this.doc = normalise(JSON.parse(readFileSync(path, 'utf8'))) as Json;
    this.#ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
    this.#ajv.addSchema({ ...this.doc, $id: 'openapi' });
  }

  /** The documented operations: "GET /api/device/{deviceId}". */
  hasOperation(method: string, template: string): boolean {
    const item = (this.doc['paths'] as Json)[template] as Json | undefined;
    return item?.[method.toLowerCase()] !== undefined;
  }

  documentedStatuses(method: string, template: string): string[] {
    const op = ((this.doc['paths'] as Json)[template] as Json)[method.toLowerCase()] as Json;
    return Object.keys(op['responses'] as Json);
  }

  /** The operation object (parameters, requestBody, responses) of "GET /api/device/{deviceId}". */
  operation(method: string, template: string): Json {
    const op = ((this.doc['paths'] as Json)[template] as Json | undefined)?.[method.toLowerCase()] as Json | undefined;
    if (op === undefined) throw new Error(`${method} ${template} is not in the spec`);
    return op;
  }

  /** The HTTP methods the document defines for a path. */
  methods(template: string): string[] {
    return Object.keys(((this.doc['paths'] as Json)[template] as Json | undefined) ?? {}).filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m)).map((m) => m.toUpperCase());
  }

  /** The media types documented for a response status (or `default`); empty when it documents no body. */
  mediaTypes(method: string, template: string, status: number): string[] {
    const responses = this.operation(method, template)['responses'] as Json;
    if (responses[String(status)] === undefined && responses['default'] === undefined) return [];
    return Object.keys((this.#resolve(this.operation(method, template), status)['content'] as Json | undefined) ?? {});
  }

  /** Validates a value against a component schema, e.g. `#/components/schemas/ThingsboardErrorResponse`. */
  checkSchema(ref: string, body: unknown): string[] {
    const validate = this.#ajv.getSchema(`openapi${ref}`) ?? this.#ajv.compile({ $ref: `openapi${ref}` });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} (${e.schemaPath})`);
  }

  /** Validates a body; returns the validation errors (empty when valid). */
  check(method: string, template: string, status: number, body: unknown): string[] {
    const op = ((this.doc['paths'] as Json)[template] as Json)[method.toLowerCase()] as Json;
    // An undocumented status falls under `default` when the operation has one (OpenAPI 3: "all other codes").
    const key = (op['responses'] as Json)[String(status)] === undefined && (op['responses'] as Json)['default'] !== undefined ? 'default' : String(status);
    const raw = (op['responses'] as Json)[key] as Json | undefined;
    if (raw === undefined) return [`status ${status} is not documented for ${method} ${template} (documented: ${Object.keys(op['responses'] as Json).join(', ')})`];
    const pointer = typeof raw['$ref'] === 'string'
      ? `openapi${raw['$ref']}`
      : `openapi#/paths/${segment(template)}/${method.toLowerCase()}/responses/${key}`;
    const response = this.#resolve(op, status);
    const content = response['content'] as Json | undefined;
    const withSchema = content === undefined ? [] : Object.keys(content).filter((c) => (content[c] as Json)['schema'] !== undefined);
    if (content !== undefined && withSchema.length === 0) return []; // documented without a schema: any body
    const mediaType = withSchema.find((c) => c.includes('json')) ?? withSchema[0];
    if (mediaType === undefined) return body === undefined || body === '' ? [] : [`${pointer}: the spec documents no body, got one`];
    const schemaRef = `${pointer}/content/${segment(mediaType)}/schema`;
    const validate = this.#ajv.getSchema(schemaRef) ?? this.#ajv.compile({ $ref: schemaRef });
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} (${e.schemaPath})`);
  }

  #resolve(op: Json, status: number): Json {
    const responses = op['responses'] as Json;
    const r = (responses[String(status)] ?? responses['default']) as Json | undefined;
    if (r === undefined) throw new Error(`status ${status} is not documented (documented: ${Object.keys(op['responses'] as Json).join(', ')})`);
    const ref = r['$ref'];
    if (typeof ref === 'string') {
      return ref.replace(/^#\//, '').split('/').reduce<Json>((node, key) => node[key] as Json, this.doc);
    }
    return r;
  }
}
