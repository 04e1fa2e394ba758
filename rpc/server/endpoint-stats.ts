/** Per-endpoint counters in the shape the NATS services protocol reports them. */
export class EndpointStats {
  private requests = 0;
  private errors = 0;
  private processingNs = 0n;
  private lastError = "";

  /** Counts one finished call: its processing time and, when it failed, the error text. */
  record(startedNs: bigint, error: string | undefined): void {
    this.requests++;
    this.processingNs += process.hrtime.bigint() - startedNs;
    if (error !== undefined) {
      this.errors++;
      this.lastError = error;
    }
  }

  /** Counts a request that was refused before it reached a handler. */
  refuse(error: string): void {
    this.requests++;
    this.errors++;
    this.lastError = error;
  }

  /** The `io.nats.micro.v1` stats fields (times in nanoseconds). */
  snapshot(): {
    num_requests: number;
    num_errors: number;
    last_error: string;
    processing_time: number;
    average_processing_time: number;
  } {
    const total = Number(this.processingNs);
    return {
      num_requests: this.requests,
      num_errors: this.errors,
      last_error: this.lastError,
      processing_time: total,
      average_processing_time: this.requests === 0 ? 0 : Math.round(total / this.requests),
    };
  }
}
