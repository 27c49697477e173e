// Preloaded (`node --import`) into every process the dev launcher starts. A SIGKILL of the
// launcher cannot be caught, so each child checks that its launcher is still its parent and, once
// it is not, drains itself as on any SIGTERM: a killed `npm start` leaves nothing behind.
const launcher = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === launcher) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
}, 1000);
timer.unref();

export {};
