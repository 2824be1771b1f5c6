import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** What a test has of a real answer (supertest's response has these). */
export interface RealAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text?: string;
}

type Responses = Record<
  string,
  { content?: Record<string, { schema?: object }>; headers?: Record<string, { required?: boolean; schema?: { type?: string } }> }
>;

/** Validates a document with a real OpenAPI validator (it is not modified). */
export async function validateOpenApiDocument(document: OpenAPIObject): Promise<void> {
  await SwaggerParser.validate(structuredClone(document) as never);
}

/**
 * Checks real answers against an OpenAPI 3.0 document: the status is declared for the operation,
 * the body validates against the declared schema (ajv, `$ref`s into the document's components),
 * and every header declared `required` is present with a value of its declared type.
 */
export class OpenApiConformance {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addFormat('password', true);
    this.ajv.addSchema({ $id: 'openapi.json', components: document.components }, 'openapi.json');
  }

  /** Problems of an answer of `method path` (the documented path template); empty when it conforms. */
  problems(method: string, path: string, answer: RealAnswer): string[] {
    const responses = (this.document.paths[path] as Record<string, { responses: Responses }> | undefined)?.[method.toLowerCase()]
      ?.responses;
    if (!responses) return [`${method} ${path} is not documented`];
    const declared = responses[String(answer.status)];
    if (!declared)
      return [
        `${method} ${path} answered ${answer.status}, which it does not declare (${Object.keys(responses).join(', ')}): ${answer.text ?? ''}`,
      ];
    const problems: string[] = [];
    const contentType = String(answer.headers['content-type'] ?? '').split(';')[0];
    const schema = declared.content?.[contentType]?.schema;
    if (!declared.content && answer.text) problems.push(`${answer.status} declares no body but got ${answer.text.slice(0, 200)}`);
    if (declared.content && !declared.content[contentType])
      problems.push(`${answer.status} answered ${contentType || 'no content type'}, declared ${Object.keys(declared.content).join(', ')}`);
    if (schema && contentType === 'application/json') {
      const validate = this.validatorFor(`${method} ${path} ${answer.status}`, schema);
      if (!validate(answer.body))
        problems.push(`${answer.status} body ${JSON.stringify(answer.body).slice(0, 300)}: ${this.ajv.errorsText(validate.errors)}`);
    }
    for (const [name, header] of Object.entries(declared.headers ?? {})) {
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`${answer.status} lacks the required header ${name}`);
        continue;
      }
      if (header.schema?.type === 'integer' && !/^\d+$/.test(String(value)))
        problems.push(`${answer.status} header ${name}=${String(value)} is not an integer`);
    }
    return problems;
  }

  private validatorFor(key: string, schema: object): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      // `#/components/...` in the document means the document's own components.
      const resolved = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')) as object;
      this.validators.set(key, (validate = this.ajv.compile(resolved)));
    }
    return validate;
  }
}
