// A message carried from one page to the next within the app (e.g. what the push did after a
// command was queued, shown on the command's page). Memory only: a reload drops it.

let pending = null;

export function setFlash(key, value) {
  pending = {key, value};
}

/** The message left for `key`, once. */
export function takeFlash(key) {
  if (!pending || pending.key !== key) return null;
  const {value} = pending;
  pending = null;
  return value;
}
