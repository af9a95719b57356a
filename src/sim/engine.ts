// The continuous-batching stand-in: a fixed number of sequence slots and a FIFO of waiting requests,
// with the occupancy bookkeeping (busy slot time, peaks) that saturation benchmarks measure.

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;
const CANCELLED = 3;

/** One request inside the engine; the server subclasses it to carry what the answer needs. */
export class EngineJob {
  state = -1;
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    /** how long the request holds a slot (the engine's beforeStart may add its prefill) */
    public durationMs: number,
    /** KV-cache tokens held while running */
    readonly kvTokens: number,
  ) {}

  get finished(): boolean {
    return this.state === DONE || this.state === CANCELLED;
  }
}

export interface EngineCounters {
  maxRunning: number;
  maxWaiting: number;
  busySlotMs: number;
  firstStartMs: number | null;
  lastEndMs: number | null;
}

export class Engine<J extends EngineJob> {
  running = 0;
  waiting = 0;
  /** KV tokens held by running sequences */
  runningTokens = 0;

  private queue: (J | undefined)[] = [];
  private head = 0;
  private readonly timed = new Set<J>();
  private pumping = false;

  private maxRunning = 0;
  private maxWaiting = 0;
  private busySlotMs = 0;
  private lastChange = performance.now();
  private firstStartMs: number | null = null;
  private lastEndMs: number | null = null;

  constructor(
    private readonly slots: number,
    /** called when a job has run its time; the server answers from here */
    private readonly onDone: (job: J) => void,
    /** called as a job takes its slot: the prefix cache is looked up then, as vLLM's scheduler does */
    private readonly beforeStart: ((job: J) => void) | null = null,
  ) {}

  /** Runs the job now if a slot is free and nobody waits; a zero-length job then finishes before this returns. */
  submit(job: J): void {
    if (this.running < this.slots && this.waiting === 0) {
      this.start(job, performance.now());
      return;
    }
    job.state = WAITING;
    this.queue.push(job);
    this.waiting++;
    if (this.waiting > this.maxWaiting) this.maxWaiting = this.waiting;
  }

  /** The client went away: vLLM aborts the request, freeing its slot or its place in line. */
  cancel(job: J): void {
    if (job.state === WAITING) {
      // left in the array and skipped when its turn comes: O(1) instead of a splice
      job.state = CANCELLED;
      this.waiting--;
    } else if (job.state === RUNNING) {
      clearTimeout(job.timer);
      this.timed.delete(job);
      this.release(job, performance.now());
      job.state = CANCELLED;
      this.pump();
    }
  }

  /** Every job holding a slot or waiting for one. */
  inFlight(): J[] {
    const jobs = [...this.timed];
    for (let i = this.head; i < this.queue.length; i++) {
      const job = this.queue[i];
      if (job !== undefined && job.state === WAITING) jobs.push(job);
    }
    return jobs;
  }

  /** Drops everything in flight without answering (a dying engine). */
  abortAll(): void {
    const now = performance.now();
    this.account(now);
    for (const job of this.timed) {
      clearTimeout(job.timer);
      job.state = CANCELLED;
    }
    this.timed.clear();
    for (let i = this.head; i < this.queue.length; i++) {
      const job = this.queue[i];
      if (job) job.state = CANCELLED;
    }
    this.queue = [];
    this.head = 0;
    this.running = 0;
    this.waiting = 0;
    this.runningTokens = 0;
  }

  counters(): EngineCounters {
    const now = performance.now();
    return {
      maxRunning: this.maxRunning,
      maxWaiting: this.maxWaiting,
      busySlotMs: this.busySlotMs + this.running * (now - this.lastChange),
      firstStartMs: this.firstStartMs,
      lastEndMs: this.lastEndMs,
    };
  }

  resetCounters(): void {
    this.account(performance.now());
    this.busySlotMs = 0;
    this.maxRunning = this.running;
    this.maxWaiting = this.waiting;
    this.firstStartMs = null;
    this.lastEndMs = null;
  }

  private account(now: number): void {
    this.busySlotMs += this.running * (now - this.lastChange);
    this.lastChange = now;
  }

  private start(job: J, now: number): void {
    this.account(now);
    this.running++;
    this.runningTokens += job.kvTokens;
    if (this.running > this.maxRunning) this.maxRunning = this.running;
    if (this.firstStartMs === null) this.firstStartMs = now;
    job.state = RUNNING;
    this.beforeStart?.(job);
    if (job.durationMs <= 0) {
      this.finish(job, now);
      return;
    }
    this.timed.add(job);
    job.timer = setTimeout(this.onTimer, job.durationMs, job);
  }

  private readonly onTimer = (job: J): void => {
    this.timed.delete(job);
    this.finish(job, performance.now());
  };

  private release(job: J, now: number): void {
    this.account(now);
    this.running--;
    this.runningTokens -= job.kvTokens;
  }

  private finish(job: J, now: number): void {
    this.release(job, now);
    this.lastEndMs = now;
    job.state = DONE;
    try {
      this.onDone(job);
    } finally {
      this.pump();
    }
  }

  /** Iterative, so a queue of zero-length jobs finishing inside start() cannot grow the stack. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.running < this.slots && this.waiting > 0) {
        const job = this.dequeue();
        if (job === undefined) break;
        this.start(job, performance.now());
      }
    } finally {
      this.pumping = false;
    }
  }

  private dequeue(): J | undefined {
    while (this.head < this.queue.length) {
      const job = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (job !== undefined && job.state === WAITING) {
        this.waiting--;
        this.compact();
        return job;
      }
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
