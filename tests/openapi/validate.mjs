// Validates an OpenAPI document produced by zebros (api::BuildOpenApiDocument).
//
//   node tests/openapi/validate.mjs FILE.json     (after `npm ci` in tests/openapi)
//
// Checks, in order:
//   1. the document against the official OpenAPI 3.1 JSON schema, with every internal $ref
//      resolving (@seriousme/openapi-schema-validator);
//   2. every schema in it (components and inline) against JSON Schema 2020-12, compiled by Ajv
//      in strict mode, which the official schema leaves unchecked (bad patterns, misspelt or
//      misplaced keywords);
//   3. operationIds are unique and every path template parameter is declared.
// Exits 0 when all pass; otherwise prints the problems and exits 1 (2 on bad usage).

import { readFile } from "node:fs/promises";
import { argv, exit } from "node:process";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const { default: addFormats } = addFormatsModule;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async function checkOfficialSchema(file) {
  const validator = new Validator();
  const result = await validator.validate(file);
  if (!result.valid) return [`official OpenAPI schema: ${JSON.stringify(result.errors, null, 2)}`];
  if (validator.version !== "3.1") return [`expected OpenAPI 3.1, found ${validator.version}`];
  return [];
}

// Every Schema Object outside components.schemas, by a readable location.
function inlineSchemas(doc) {
  const found = [];
  const fromContent = (content, where) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      if (media.schema) found.push([`${where} ${type}`, media.schema]);
    }
  };
  const fromParameters = (parameters, where) => {
    for (const parameter of parameters ?? []) {
      if (parameter.schema) found.push([`${where} parameter ${parameter.name}`, parameter.schema]);
    }
  };
  const components = doc.components ?? {};
  fromParameters(Object.values(components.parameters ?? {}), "components");
  for (const [name, header] of Object.entries(components.headers ?? {})) {
    if (header.schema) found.push([`header ${name}`, header.schema]);
  }
  for (const [name, response] of Object.entries(components.responses ?? {})) {
    fromContent(response.content, `response ${name}`);
  }
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    fromParameters(item.parameters, path);
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const where = `${method.toUpperCase()} ${path}`;
      fromParameters(operation.parameters, where);
      fromContent(operation.requestBody?.content, `${where} body`);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        fromContent(response.content, `${where} ${status}`);
      }
    }
  }
  return found;
}

function checkSchemas(doc) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addKeyword("x-zebros");
  // OpenAPI 3.0's `nullable` is no keyword in 3.1 (use "type": [T, "null"]); Ajv would accept it.
  ajv.removeKeyword("nullable");
  // Schemas refer to each other as "#/components/schemas/X"; give Ajv one root holding them.
  const root = { $id: "urn:zebros:openapi", components: { schemas: doc.components?.schemas ?? {} } };
  ajv.addKeyword("components");
  const problems = [];
  try {
    ajv.addSchema(root);
  } catch (error) {
    return [`components.schemas: ${error.message}`];
  }
  const targets = Object.keys(root.components.schemas).map((name) => [
    `components.schemas.${name}`,
    { $ref: `urn:zebros:openapi#/components/schemas/${name}` },
  ]);
  for (const [where, schema] of inlineSchemas(doc)) {
    const text = JSON.stringify(schema).replaceAll('"#/components/', '"urn:zebros:openapi#/components/');
    targets.push([where, JSON.parse(text)]);
  }
  const reported = new Set();  // a broken schema also breaks every schema referring to it
  for (const [where, schema] of targets) {
    try {
      ajv.compile(schema);
    } catch (error) {
      if (!reported.has(error.message)) problems.push(`${where}: ${error.message}`);
      reported.add(error.message);
    }
  }
  return problems;
}

function checkOperations(doc) {
  const problems = [];
  const seen = new Map();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const id = operation.operationId;
      if (!id) problems.push(`${where}: no operationId`);
      else if (seen.has(id)) problems.push(`${where}: operationId ${id} also used by ${seen.get(id)}`);
      else seen.set(id, where);
      const declared = new Set(
        [...(item.parameters ?? []), ...(operation.parameters ?? [])]
          .map((parameter) => resolve(doc, parameter))
          .filter((parameter) => parameter?.in === "path")
          .map((parameter) => parameter.name),
      );
      for (const name of templated) {
        if (!declared.has(name)) problems.push(`${where}: path parameter {${name}} not declared`);
      }
    }
  }
  return problems;
}

function resolve(doc, node) {
  if (!node?.$ref) return node;
  return node.$ref
    .replace(/^#\//, "")
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((at, key) => at?.[key], doc);
}

async function main() {
  const file = argv[2];
  if (!file || argv.length > 3) {
    console.error("usage: node validate.mjs FILE.json");
    return 2;
  }
  let doc;
  try {
    doc = JSON.parse(await readFile(file, "utf-8"));
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    return 1;
  }
  const problems = await checkOfficialSchema(file);
  if (problems.length === 0) problems.push(...checkSchemas(doc), ...checkOperations(doc));
  if (problems.length > 0) {
    console.error(`${file}: INVALID\n${problems.join("\n")}`);
    return 1;
  }
  console.log(`${file}: valid OpenAPI ${doc.openapi} (${Object.keys(doc.paths ?? {}).length} paths)`);
  return 0;
}

exit(await main());
