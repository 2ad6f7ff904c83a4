// Undo/redo: a stack of {undo(), redo(), label} entries; actions may be async.

export function createHistory(onChange = () => {}) {
  const done = [];
  const undone = [];
  let busy = Promise.resolve();

  // Serialise, so a fast Ctrl+Z Ctrl+Z never interleaves two server round trips.
  const run = (fn) => (busy = busy.then(fn, fn));

  return {
    /** Record an action that has already happened. */
    push(entry) {
      done.push(entry);
      undone.length = 0;
      onChange();
    },
    undo: () =>
      run(async () => {
        const entry = done.pop();
        if (!entry) return;
        try {
          await entry.undo();
          undone.push(entry);
        } catch (err) {
          done.push(entry);
          throw err;
        } finally {
          onChange();
        }
      }),
    redo: () =>
      run(async () => {
        const entry = undone.pop();
        if (!entry) return;
        try {
          await entry.redo();
          done.push(entry);
        } catch (err) {
          undone.push(entry);
          throw err;
        } finally {
          onChange();
        }
      }),
    clear() {
      done.length = 0;
      undone.length = 0;
      onChange();
    },
    get canUndo() {
      return done.length > 0;
    },
    get canRedo() {
      return undone.length > 0;
    },
  };
}
