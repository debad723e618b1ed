// Validates deploy/k8s's manifests against the Kubernetes schema (npm's kubernetes-models 5.1.0: types, required
// fields, formats), offline. Run by the deployment tests; by hand:
//   npm install --prefix artifacts/node kubernetes-models@5.1.0 yaml@2.9.1
//   NODE_PATH=artifacts/node/node_modules node deploy/k8s/validate.mjs deploy/k8s/*.yaml
// Prints one line per object and exits 1 on the first file with an invalid or unknown object.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const modules = process.env.NODE_PATH ?? "node_modules";
const load = (name) => import(pathToFileURL(createRequire(pathToFileURL(modules + "/")).resolve(name)).href);
const { parseAllDocuments } = await load("yaml");

// The kinds these manifests use, by apiVersion and kind.
// Each is the model's file inside the package (its export map names them only for TypeScript's module resolution).
const model = (path) => () => import(pathToFileURL(`${modules}/kubernetes-models/${path}.js`).href);
const kinds = {
  "apps/v1/Deployment": model("apps/v1/Deployment"),
  "v1/Service": model("v1/Service"),
  "autoscaling/v2/HorizontalPodAutoscaler": model("autoscaling/v2/HorizontalPodAutoscaler"),
  "policy/v1/PodDisruptionBudget": model("policy/v1/PodDisruptionBudget"),
};

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.log(`${file}: not YAML: ${doc.errors[0].message}`);
      failed = true;
      continue;
    }
    const object = doc.toJS();
    if (object.apiVersion?.startsWith("kustomize.config.k8s.io/")) {
      continue;
    }
    const key = `${object.apiVersion}/${object.kind}`;
    if (!(key in kinds)) {
      console.log(`${file}: ${key} is not a kind this check knows; expected one of ${Object.keys(kinds).join(", ")}`);
      failed = true;
      continue;
    }
    const Model = Object.values(await kinds[key]()).find((v) => typeof v === "function");
    try {
      new Model(object).validate();
      console.log(`${file}: ${object.kind} ${object.metadata?.name} valid`);
    } catch (e) {
      console.log(`${file}: ${object.kind} ${object.metadata?.name} invalid: ${e.message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
