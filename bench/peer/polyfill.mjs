// PostGraphile 5 targets Node 22, where Promise.withResolvers exists; Node 20 lacks it.
// Loaded with `node --import ./polyfill.mjs` before anything else.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
