// Checks, before any container starts, that there is a Docker daemon to talk to and that it can
// hand GPUs to containers, and turns the docker CLI's own failures into messages that say what to do.
import { execa } from "execa";
import { VbatchError } from "../errors.js";

function where(dockerHost: string | undefined): string {
  return dockerHost ? `at ${dockerHost}` : "on this machine";
}

/** A VbatchError for a failed docker command, recognising the common causes. */
export function dockerFailure(what: string, stderr: string, dockerHost: string | undefined): VbatchError {
  const text = stderr.trim();
  const last = text.split("\n").filter((l) => l.trim() !== "");
  if (/Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i.test(text)) {
    return new VbatchError("engine_unavailable", `no Docker daemon is reachable ${where(dockerHost)}`, {
      details: [
        ...last.slice(-2),
        "start it (sudo systemctl start docker), or point --docker-host / DOCKER_HOST at a GPU host, e.g. ssh://user@gpu-box",
      ],
    });
  }
  if (/permission denied.*docker\.sock/i.test(text)) {
    return new VbatchError(
      "engine_unavailable",
      `not allowed to use the Docker daemon ${where(dockerHost)}`,
      {
        details: [
          ...last.slice(-1),
          "add yourself to the docker group: sudo usermod -aG docker $USER, then log in again",
        ],
      },
    );
  }
  if (
    /could not select device driver|nvidia-container-cli|unknown or invalid runtime name: nvidia/i.test(text)
  ) {
    return noNvidia(dockerHost, last.slice(-1));
  }
  if (/Conflict\. The container name/i.test(text)) {
    const name = /"\/?([^"]+)"/.exec(text)?.[1] ?? "the container";
    return new VbatchError("engine_unavailable", `${what}: a container named ${name} already exists`, {
      details: [
        `it may be left from an earlier --keep or vbatch up: docker rm -f ${name}, or pass another --job-name`,
      ],
    });
  }
  return new VbatchError("engine_unavailable", `${what} failed`, { details: last.slice(-10) });
}

function noNvidia(dockerHost: string | undefined, lines: string[]): VbatchError {
  return new VbatchError(
    "engine_unavailable",
    `the Docker daemon ${where(dockerHost)} has no NVIDIA runtime, so containers cannot get GPUs`,
    {
      details: [
        ...lines,
        "install the NVIDIA Container Toolkit on the GPU host, then: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker",
        "or use --launch process (vllm on this machine) or --launch modal",
      ],
    },
  );
}

/** `docker info`: the daemon answers and lists the nvidia runtime. */
export async function checkDocker(env: NodeJS.ProcessEnv, dockerHost: string | undefined): Promise<void> {
  const r = await execa("docker", ["info", "--format", "{{json .Runtimes}}"], {
    env,
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: 60_000,
  });
  if (r.exitCode !== 0) throw dockerFailure("docker info", `${r.stderr}\n${r.stdout}`, dockerHost);
  let runtimes: unknown;
  try {
    runtimes = JSON.parse(r.stdout.trim());
  } catch {
    runtimes = undefined;
  }
  const names = typeof runtimes === "object" && runtimes !== null ? Object.keys(runtimes) : [];
  if (!names.includes("nvidia")) {
    throw noNvidia(dockerHost, [`docker info lists these runtimes: ${names.join(", ") || "none"}`]);
  }
}
