// prom-client's index loads all of it (the cluster aggregator, the push gateway's http and https, the
// default process metrics: 117 kB bundled); the agent needs three of its modules (16 kB), typed here by the
// package's own declarations.
declare module "prom-client/lib/registry.js" {
  import { Registry } from "prom-client";
  export default Registry;
}
declare module "prom-client/lib/gauge.js" {
  import { Gauge } from "prom-client";
  export default Gauge;
}
declare module "prom-client/lib/counter.js" {
  import { Counter } from "prom-client";
  export default Counter;
}
