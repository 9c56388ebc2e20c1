/** The visible window of the time axis, in seconds. */
export interface View {
  start: number;
  span: number;
}

/** Narrowest window: two seconds (or the whole recording when it is shorter). */
const MIN_SPAN = 2;

/** Keeps the window inside [0, duration] and its width between MIN_SPAN and the duration. */
export function clampView(view: View, duration: number): View {
  const span = Math.min(Math.max(view.span, Math.min(MIN_SPAN, duration || MIN_SPAN)), Math.max(duration, MIN_SPAN));
  const start = Math.min(Math.max(0, view.start), Math.max(0, duration - span));
  return { start, span };
}

/** Scales the span by `factor`, keeping the time under `anchor` at the same place on screen. */
export function zoomView(view: View, factor: number, anchor: number, duration: number): View {
  const span = view.span * factor;
  const frac = (anchor - view.start) / view.span;
  return clampView({ start: anchor - frac * span, span }, duration);
}
