// One HTTP request: a row, or a group of single-input embedding rows sent together.
import { groupBody } from "./coalesce.js";
import type { RowTask } from "./task.js";

export interface SendJob {
  tasks: RowTask[];
  url: RowTask["url"];
  body: string;
  /** Per-row weights for splitting a group's usage (input lengths). */
  weights?: number[];
}

export function singleJob(task: RowTask): SendJob {
  return { tasks: [task], url: task.url, body: task.body };
}

export function groupJob(tasks: RowTask[]): SendJob {
  if (tasks.length === 1) return singleJob(tasks[0] as RowTask);
  const first = tasks[0] as RowTask;
  const inputs = tasks.map((t) => t.coalesce?.input ?? "");
  const span = first.coalesce?.span ?? [0, 0];
  return {
    tasks,
    url: first.url,
    body: groupBody(first.body, span, inputs),
    weights: inputs.map((s) => s.length),
  };
}
