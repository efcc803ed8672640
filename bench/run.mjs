// `npm run bench [auth|delivery|gateway|intake ...]`: benchmarks, printing figures and ratios
// against a baseline measured in the same run. Not tests: nothing here fails.
import { benchAuth } from "./auth.mjs";
import { benchDelivery } from "./delivery.mjs";
import { benchGateway } from "./gateway.mjs";
import { benchIntake } from "./intake.mjs";
import { benchOrdering } from "./ordering.mjs";
import { benchReplay } from "./replay.mjs";
import { benchScale } from "./scale.mjs";

const suites = {
  auth: benchAuth,
  delivery: benchDelivery,
  gateway: benchGateway,
  intake: benchIntake,
  scale: benchScale,
  ordering: benchOrdering,
  replay: benchReplay,
};
const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(suites)) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown benchmark ${name}; have: ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== bench/${name} ===`);
  await suite();
}
