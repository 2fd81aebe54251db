// Refreshes a page while something on it is still moving (queued deliveries), and never after:
// it stops when told, when the page's AbortSignal fires (navigation), and skips ticks while the
// tab is hidden. Ticks never overlap: the next one is scheduled after the last one ends.

export function poll(signal, intervalMs, tick) {
  let timer = null;
  let stopped = false;

  const stop = () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  const schedule = () => {
    if (stopped || signal.aborted) return;
    timer = setTimeout(run, intervalMs);
  };

  const run = async () => {
    timer = null;
    if (stopped || signal.aborted) return;
    if (document.hidden) {
      schedule();
      return;
    }
    let again = false;
    try {
      // tick() answers whether there is still a reason to poll.
      again = await tick();
    } catch (error) {
      // A failed refresh is shown by tick's own page; keep trying unless the page is gone.
      again = !signal.aborted && !(error && error.status === 401);
    }
    if (again) schedule();
    else stop();
  };

  signal.addEventListener('abort', stop, {once: true});
  schedule();
  return {stop, get running() { return !stopped; }};
}
