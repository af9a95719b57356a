// deploy/k8s/ parsed as Kubernetes would read it and validated against the API's schemas
// (kubernetes-models), with the fields that make the setup work checked against each other and
// against vbatch itself: GPU and probes on vLLM, a headless Service whose name and port the Job
// resolves, an Indexed Job whose --shards equals its completions, a per-index directory on a
// ReadWriteMany claim, flags that the CLI really takes, and the image the Dockerfile builds.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { Command } from "commander";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { buildProgram } from "../src/cli/main.js";
import { DEFAULT_VLLM_IMAGE } from "../src/launch/options.js";
import { last, readDockerfile } from "./helpers/dockerfile.js";

const root = join(import.meta.dirname, "..");
const dir = join(root, "deploy", "k8s");
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field
type Obj = any;

const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
const docs: { file: string; doc: Obj }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
    return { file, doc: d.toJS() as Obj };
  }),
);
const find = (kind: string, name: string): Obj => {
  const found = docs.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found.doc;
};
const program = buildProgram({ exitCode: 0 });
const command = (name: string): Command => program.commands.find((c) => c.name() === name) as Command;
const longFlags = (cmd: Command) => new Set(cmd.options.flatMap((o) => (o.long ? [o.long] : [])));
/** The value after `flag` in an argument list. */
const valueAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

const deployment = find("Deployment", "vllm");
const service = find("Service", "vllm");
const job = find("Job", "vbatch");
const merge = find("Job", "vbatch-merge");
const vllm = deployment.spec.template.spec.containers[0];
const runner = job.spec.template.spec.containers[0];
const runArgs: string[] = runner.args;

describe("deploy/k8s manifests", () => {
  it("parse, and every object has an apiVersion, a kind and a name", () => {
    expect(files.sort()).toEqual([
      "data-pod.yaml",
      "merge-job.yaml",
      "storage.yaml",
      "vbatch-job.yaml",
      "vllm.yaml",
    ]);
    expect(docs.map((d) => d.doc.kind).sort()).toEqual([
      "Deployment",
      "Job",
      "Job",
      "PersistentVolumeClaim",
      "PersistentVolumeClaim",
      "Pod",
      "Service",
    ]);
    for (const { file, doc } of docs) {
      expect(doc.apiVersion, file).toMatch(/^(v1|apps\/v1|batch\/v1)$/);
      expect(doc.kind, file).toMatch(/^(PersistentVolumeClaim|Deployment|Service|Pod|Job)$/);
      expect(doc.metadata.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it("every object is valid for its kind's API schema, and the check catches a wrong field", () => {
    const models: Record<string, new (data: Obj) => { validate(): void }> = {
      Deployment,
      Job,
      PersistentVolumeClaim,
      Pod,
      Service,
    };
    for (const { file, doc } of docs) {
      const Model = models[doc.kind];
      expect(Model, `${file}: ${doc.kind}`).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(doc).validate(),
        `${file}: ${doc.kind}`,
      ).not.toThrow();
    }
    const broken = structuredClone(job);
    broken.spec.completions = "4";
    expect(() => new Job(broken).validate()).toThrow(/completions must be integer/);
  });

  it("vLLM: the pinned image, the model positionally, one GPU a pod, probes on /health", () => {
    expect(vllm.image).toBe(DEFAULT_VLLM_IMAGE);
    expect(vllm.args[0]).not.toMatch(/^-/); // `vllm serve <model>`: --model is deprecated
    expect(vllm.args).not.toContain("--model");
    expect(valueAfter(vllm.args, "--port")).toBe("8000");
    expect(vllm.resources.limits["nvidia.com/gpu"]).toBe(1);
    const port = vllm.ports.find((p: Obj) => p.containerPort === 8000);
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      expect(vllm[probe].httpGet.path, probe).toBe("/health");
      expect(vllm[probe].httpGet.port, probe).toBe(port.name);
    }
    // Loading takes minutes: the startup probe allows 20 before the liveness probe may restart it.
    expect(vllm.startupProbe.periodSeconds * vllm.startupProbe.failureThreshold).toBeGreaterThanOrEqual(1200);
    const shm = vllm.volumeMounts.find((m: Obj) => m.mountPath === "/dev/shm");
    const shmVolume = deployment.spec.template.spec.volumes.find((v: Obj) => v.name === shm.name);
    expect(shmVolume.emptyDir.medium).toBe("Memory");
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  });

  it("the Service is headless, lists only ready pods, selects the vLLM pods, and is what the Job resolves", () => {
    expect(service.spec.clusterIP).toBe("None");
    expect(service.spec.publishNotReadyAddresses ?? false).toBe(false);
    for (const [k, v] of Object.entries(service.spec.selector)) {
      expect(deployment.spec.template.metadata.labels[k]).toBe(v);
    }
    const port = service.spec.ports[0];
    expect(port.port).toBe(8000);
    expect(valueAfter(runArgs, "--endpoints-dns")).toBe(`${service.metadata.name}:${port.port}`);
  });

  it("vbatch is an Indexed Job whose --shards equals its completions, with --shard auto", () => {
    expect(job.spec.completionMode).toBe("Indexed");
    expect(valueAfter(runArgs, "--shard")).toBe("auto");
    expect(Number(valueAfter(runArgs, "--shards"))).toBe(job.spec.completions);
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions);
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    // Retries per index, never two pods on one journal, node loss not counted.
    expect(job.spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
    expect(job.spec.podReplacementPolicy).toBe("Failed");
    expect(job.spec.podFailurePolicy.rules).toContainEqual({
      action: "Ignore",
      onPodConditions: [{ type: "DisruptionTarget", status: "True" }],
    });
    expect(Number(valueAfter(runArgs, "--engine-wait"))).toBeGreaterThanOrEqual(1200);
  });

  it("each index writes its journal and output in its own directory of a ReadWriteMany claim", () => {
    const mounts: Obj[] = runner.volumeMounts;
    const work = mounts.find((m) => m.mountPath === posix.dirname(valueAfter(runArgs, "-o") as string));
    expect(work.subPathExpr).toBe("shards/$(JOB_COMPLETION_INDEX)");
    const input = mounts.find((m) => (runArgs[1] as string).startsWith(`${m.mountPath}/`));
    expect(input.readOnly).toBe(true);
    expect(input.subPath).toBe("input");
    const volume = job.spec.template.spec.volumes.find((v: Obj) => v.name === work.name);
    const claim = find("PersistentVolumeClaim", volume.persistentVolumeClaim.claimName);
    expect(claim.spec.accessModes).toEqual(["ReadWriteMany"]);
    expect(input.name).toBe(work.name);
    const cache = deployment.spec.template.spec.volumes.find((v: Obj) => v.persistentVolumeClaim);
    expect(find("PersistentVolumeClaim", cache.persistentVolumeClaim.claimName).spec.accessModes).toEqual([
      "ReadWriteMany",
    ]);
  });

  it("the Jobs run the image the Dockerfile builds, at this version, as its user, with flags `vbatch run` takes", () => {
    const image = `registry.example.com/vbatch:${version}`;
    expect(runner.image).toBe(image);
    expect(merge.spec.template.spec.containers[0].image).toBe(image);
    // The Dockerfile's entrypoint, and its user: node, uid 1000 in the official Node.js images.
    const runtime = readDockerfile(root).at(-1);
    expect(runner.command).toEqual(
      JSON.parse(last(runtime as NonNullable<typeof runtime>, "ENTRYPOINT") ?? "[]"),
    );
    expect(last(runtime as NonNullable<typeof runtime>, "USER")).toBe("node");
    for (const spec of [job.spec.template.spec, merge.spec.template.spec]) {
      expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    }
    // The README says how to build and push it.
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    expect(readme).toContain(`docker build -t ${image} .`);
    expect(readme).toContain(`docker push ${image}`);
    expect(runArgs[0]).toBe("run");
    const flags = longFlags(command("run"));
    for (const a of runArgs.filter((x) => x.startsWith("--"))) expect(flags.has(a), a).toBe(true);
    expect(runArgs).toContain("-o");
  });

  it("the merge Job reads every shard's output from the same claim and checks it against the input", () => {
    const c = merge.spec.template.spec.containers[0];
    const script: string = c.args.join(" ");
    const words = script.split(/\s+/);
    expect(words.slice(0, 3)).toEqual(["exec", "vbatch", "merge"]);
    const mount = c.volumeMounts[0];
    expect(mount.subPath ?? mount.subPathExpr).toBeUndefined(); // the whole claim: every shard
    const volume = merge.spec.template.spec.volumes.find((v: Obj) => v.name === mount.name);
    expect(volume.persistentVolumeClaim.claimName).toBe(
      job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName,
    );
    // shards/<index>/ on the claim is /work in the vbatch pod; the input is input/.
    expect(words[3]).toBe(
      `${mount.mountPath}/shards/*/${posix.basename(valueAfter(runArgs, "-o") as string)}`,
    );
    expect(valueAfter(words, "--input")).toBe(
      `${mount.mountPath}/input/${posix.basename(runArgs[1] as string)}`,
    );
    const flags = longFlags(command("merge"));
    for (const a of words.filter((x) => x.startsWith("--"))) expect(flags.has(a), a).toBe(true);
    expect(merge.spec.template.spec.restartPolicy).toBe("Never");
  });

  it("the data pod mounts the same claim and makes each index's directory the Job's user's", () => {
    const pod = find("Pod", "vbatch-data");
    expect(pod.spec.volumes[0].persistentVolumeClaim.claimName).toBe("vbatch-data");
    const script: string = pod.spec.containers[0].command.at(-1);
    const dirs = Array.from({ length: job.spec.completions }, (_, i) => `/data/shards/${i}`);
    expect(script).toContain(`mkdir -p /data/input ${dirs.join(" ")}`);
    const uid = job.spec.template.spec.securityContext.runAsUser;
    expect(script).toContain(`chown ${uid}:${uid} /data /data/input /data/shards /data/shards/*`);
  });
});
