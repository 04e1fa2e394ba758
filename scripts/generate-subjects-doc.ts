/**
 * Writes docs/subjects.md from the subject options in proto/ (via the generated code in gen/).
 * `npm run generate` runs it after `buf generate`; CI regenerates and fails on any difference.
 */
import { writeFileSync } from "node:fs";
import { loadSchemaCatalog } from "./lib/schema-catalog.js";
import { renderSubjectsDoc } from "./lib/subjects-doc.js";

const OUTPUT = new URL("../docs/subjects.md", import.meta.url);

const doc = renderSubjectsDoc(await loadSchemaCatalog());
writeFileSync(OUTPUT, doc.text);
console.log(
  `docs/subjects.md: ${doc.natsServices} NATS services, ${doc.eventSubjects} event subjects, ${doc.httpServices} HTTP services`,
);
