// The first script to run: `deno task demo` serves a local target and runs this against it.
// It is a plain k6 script: it runs unchanged under k6 too.
import http from "k6/http";
import { check, group, sleep } from "k6";
import { Trend } from "k6/metrics";

const BASE = __ENV.TARGET || "http://127.0.0.1:8080";
const jsonLatency = new Trend("json_latency", true);

export const options = {
  scenarios: {
    browse: {
      executor: "ramping-vus",
      startVUs: 0,
      stages: [
        { duration: "3s", target: 10 },
        { duration: "4s", target: 10 },
        { duration: "3s", target: 0 },
      ],
    },
  },
  thresholds: {
    http_req_failed: ["rate<0.01"],
    http_req_duration: ["p(95)<200"],
    checks: ["rate>0.99"],
  },
};

export default function () {
  group("home", () => {
    const res = http.get(`${BASE}/`);
    check(res, { "status is 200": (r) => r.status === 200 });
  });
  group("api", () => {
    const res = http.get(`${BASE}/json`);
    check(res, { "json has slideshow": (r) => r.json("slideshow") !== undefined });
    jsonLatency.add(res.timings.duration);
    const post = http.post(`${BASE}/post`, JSON.stringify({ hello: "spate" }), {
      headers: { "Content-Type": "application/json" },
    });
    check(post, { "echoed": (r) => r.json().json.hello === "spate" });
  });
  sleep(0.5);
}
