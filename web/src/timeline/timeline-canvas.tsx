'use client';

import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import { formatClock, formatPrecise } from '../lib/format';
import { addCoverage, coverageRuns } from './coverage';
import { lowerBound, turnAt, type Lane } from './lanes';
import { clampView, zoomView, type View } from './view';
import { peakRange, type Peaks } from './waveform';

export { clampView, zoomView, type View };

// Layout in CSS pixels, top to bottom: whole-meeting overview, time axis, zoomed waveform, one lane per speaker.
const OVERVIEW_H = 36;
const AXIS_H = 22;
const WAVE_H = 46;
const LANE_H = 30;
const LANES_TOP = OVERVIEW_H + AXIS_H + WAVE_H;
const TICK_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export interface SelectedTurn {
  laneIndex: number;
  index: number;
}

interface Props {
  duration: number;
  lanes: Lane[];
  peaks: Peaks | null;
  audio: RefObject<HTMLAudioElement | null>;
  view: View;
  onViewChange: (view: View) => void;
  selected: SelectedTurn | null;
  onTurnClick: (turn: SelectedTurn) => void;
  onSeek: (time: number) => void;
  onTogglePlay: () => void;
}

/**
 * Canvas timeline: two stacked canvases, the base (waveforms, axis, turns) redrawn when the data or
 * the view changes, the overlay (playhead, selection) redrawn every animation frame while playing.
 * Only turns inside the view are visited (binary search per lane), so hour-long meetings with
 * thousands of turns stay smooth.
 */
export function TimelineCanvas(props: Props) {
  const { duration, lanes, peaks, audio, view, onViewChange, selected } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const base = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const height = LANES_TOP + Math.max(1, lanes.length) * LANE_H + 4;
  const labelW = width < 600 ? 84 : 150;
  const plotW = Math.max(1, width - labelW - 8);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => setWidth(Math.floor(entry.contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const xOf = useCallback((t: number) => labelW + ((t - view.start) / view.span) * plotW, [labelW, plotW, view]);
  const tOf = useCallback((x: number) => view.start + ((x - labelW) / plotW) * view.span, [labelW, plotW, view]);

  // Base layer.
  useEffect(() => {
    const canvas = base.current;
    if (!canvas || width === 0) return;
    const drawStarted = performance.now();
    const ctx = setupCanvas(canvas, width, height);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    // Overview: the whole meeting, with the visible window highlighted.
    ctx.fillStyle = '#f3f5f8';
    ctx.fillRect(labelW, 0, plotW, OVERVIEW_H - 4);
    if (peaks && duration > 0) drawWave(ctx, peaks, { x: labelW, y: 2, w: plotW, h: OVERVIEW_H - 8 }, 0, duration, '#9aa4b2');
    if (duration > 0) {
      const vx = labelW + (view.start / duration) * plotW;
      const vw = Math.max(2, (view.span / duration) * plotW);
      ctx.fillStyle = 'rgba(31, 95, 191, 0.15)';
      ctx.fillRect(vx, 0, vw, OVERVIEW_H - 4);
      ctx.strokeStyle = '#1f5fbf';
      ctx.lineWidth = 1;
      ctx.strokeRect(vx + 0.5, 0.5, vw - 1, OVERVIEW_H - 5);
    }
    ctx.fillStyle = '#5b6470';
    ctx.fillText('Overview', 6, OVERVIEW_H / 2 - 2);

    // Axis ticks.
    const step = TICK_STEPS.find((s) => (view.span / s) * 80 <= plotW) ?? 7200;
    ctx.strokeStyle = '#d5dae1';
    ctx.fillStyle = '#5b6470';
    ctx.textAlign = 'center';
    for (let t = Math.ceil(view.start / step) * step; t <= view.start + view.span; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, OVERVIEW_H + AXIS_H - 6);
      ctx.lineTo(x, height);
      ctx.stroke();
      const label = step < 1 ? formatPrecise(t) : formatClock(t);
      const half = ctx.measureText(label).width / 2;
      // 7 px clear of the plot's left edge, where the playhead's marker sits at the start.
      ctx.fillText(label, Math.min(Math.max(x, labelW + half + 7), labelW + plotW - half - 2), OVERVIEW_H + AXIS_H / 2 - 2);
    }
    ctx.textAlign = 'left';

    // Zoomed waveform.
    if (peaks) drawWave(ctx, peaks, { x: labelW, y: OVERVIEW_H + AXIS_H, w: plotW, h: WAVE_H - 4 }, view.start, view.start + view.span, '#6b7a90');
    ctx.fillStyle = '#5b6470';
    ctx.fillText('Waveform', 6, OVERVIEW_H + AXIS_H + WAVE_H / 2);

    // Lanes: only the turns in view (binary search to the first), as per-pixel coverage.
    const viewEnd = view.start + view.span;
    const cover = new Float32Array(Math.ceil(plotW));
    const pxPerSec = plotW / view.span;
    let visited = 0;
    lanes.forEach((lane, li) => {
      const y = LANES_TOP + li * LANE_H;
      ctx.fillStyle = li % 2 ? '#fafbfc' : '#f3f5f8';
      ctx.fillRect(0, y, width, LANE_H);
      ctx.fillStyle = lane.color;
      ctx.fillRect(6, y + LANE_H / 2 - 5, 10, 10);
      ctx.fillStyle = '#1b1f24';
      ctx.fillText(ellipsize(ctx, lane.label, labelW - 26), 22, y + LANE_H / 2);
      cover.fill(0);
      for (let i = lowerBound(lane.starts, view.start - lane.maxLength); i < lane.starts.length && lane.starts[i] <= viewEnd; i++) {
        if (lane.ends[i] < view.start) continue;
        visited++;
        addCoverage(cover, (lane.starts[i] - view.start) * pxPerSec, (lane.ends[i] - view.start) * pxPerSec);
      }
      ctx.fillStyle = lane.color;
      for (const run of coverageRuns(cover)) {
        ctx.globalAlpha = run.alpha;
        ctx.fillRect(labelW + run.x, y + 5, run.w, LANE_H - 10);
      }
      ctx.globalAlpha = 1;
    });
    // For tests and profiling: how much the last draw touched and took (set on the element, no re-render).
    if (wrap.current) {
      wrap.current.dataset.turnsDrawn = String(visited);
      wrap.current.dataset.drawMs = (performance.now() - drawStarted).toFixed(2);
    }
  }, [width, height, labelW, plotW, lanes, peaks, duration, view, xOf]);

  // Overlay: playhead and selection, every frame.
  useEffect(() => {
    const canvas = overlay.current;
    if (!canvas || width === 0) return;
    let frame = 0;
    const draw = () => {
      const ctx = setupCanvas(canvas, width, height);
      ctx.clearRect(0, 0, width, height);
      if (selected) {
        const lane = lanes[selected.laneIndex];
        if (lane && selected.index < lane.starts.length) {
          const x0 = xOf(lane.starts[selected.index]);
          const x1 = Math.max(x0 + 3, xOf(lane.ends[selected.index]));
          const y = LANES_TOP + selected.laneIndex * LANE_H;
          ctx.strokeStyle = '#1b1f24';
          ctx.lineWidth = 2;
          ctx.strokeRect(x0, y + 3, x1 - x0, LANE_H - 6);
        }
      }
      const t = audio.current?.currentTime ?? 0;
      if (duration > 0) {
        const ox = labelW + (t / duration) * plotW;
        ctx.fillStyle = '#d1242f';
        ctx.fillRect(ox - 1, 0, 2, OVERVIEW_H - 4);
      }
      if (t >= view.start && t <= view.start + view.span) {
        const x = xOf(t);
        ctx.fillStyle = '#d1242f';
        ctx.fillRect(x - 1, OVERVIEW_H, 2, height - OVERVIEW_H);
        ctx.beginPath();
        ctx.moveTo(x - 5, OVERVIEW_H);
        ctx.lineTo(x + 5, OVERVIEW_H);
        ctx.lineTo(x, OVERVIEW_H + 7);
        ctx.fill();
      }
      const el = audio.current;
      if (el && !el.paused) frame = requestAnimationFrame(draw);
    };
    draw();
    const el = audio.current;
    const restart = () => {
      cancelAnimationFrame(frame);
      draw();
    };
    el?.addEventListener('play', restart);
    el?.addEventListener('seeked', restart);
    el?.addEventListener('timeupdate', restart);
    return () => {
      cancelAnimationFrame(frame);
      el?.removeEventListener('play', restart);
      el?.removeEventListener('seeked', restart);
      el?.removeEventListener('timeupdate', restart);
    };
  }, [width, height, labelW, plotW, lanes, selected, audio, duration, view, xOf]);

  // Ctrl/⌘ + wheel (and trackpad pinch) zooms around the pointer; horizontal or shift + wheel scrolls.
  useEffect(() => {
    const el = overlay.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      const rect = el.getBoundingClientRect();
      const x = e.clientX - rect.left;
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        onViewChange(zoomView(view, Math.exp(e.deltaY * 0.01), x > labelW ? tOf(x) : view.start, duration));
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        const dx = e.shiftKey ? e.deltaY : e.deltaX;
        onViewChange(clampView({ start: view.start + (dx / plotW) * view.span, span: view.span }, duration));
      }
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [view, onViewChange, duration, labelW, plotW, tOf]);

  // Drag pans; a click without drag selects/plays a turn, or seeks.
  const drag = useRef<{ x: number; start: number; moved: boolean; overview: boolean } | null>(null);
  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const y = e.clientY - rect.top;
    drag.current = { x: e.clientX, start: view.start, moved: false, overview: y < OVERVIEW_H };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) < 4) return;
    d.moved = true;
    if (d.overview) {
      const rect = e.currentTarget.getBoundingClientRect();
      const t = ((e.clientX - rect.left - labelW) / plotW) * duration;
      onViewChange(clampView({ start: t - view.span / 2, span: view.span }, duration));
    } else {
      onViewChange(clampView({ start: d.start - (dx / plotW) * view.span, span: view.span }, duration));
    }
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.moved) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    if (x < labelW) return;
    if (d.overview) {
      const t = ((x - labelW) / plotW) * duration;
      onViewChange(clampView({ start: t - view.span / 2, span: view.span }, duration));
      return;
    }
    const t = tOf(x);
    const li = Math.floor((y - LANES_TOP) / LANE_H);
    if (y >= LANES_TOP && li < lanes.length) {
      const index = turnAt(lanes[li], t);
      if (index >= 0) {
        props.onTurnClick({ laneIndex: li, index });
        return;
      }
    }
    props.onSeek(Math.max(0, Math.min(duration, t)));
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const now = audio.current?.currentTime ?? 0;
    const jump = e.shiftKey ? 30 : 5;
    if (e.key === ' ' || e.key === 'k') props.onTogglePlay();
    else if (e.key === 'ArrowLeft') props.onSeek(Math.max(0, now - jump));
    else if (e.key === 'ArrowRight') props.onSeek(Math.min(duration, now + jump));
    else if (e.key === '+' || e.key === '=') onViewChange(zoomView(view, 0.5, now, duration));
    else if (e.key === '-' || e.key === '_') onViewChange(zoomView(view, 2, now, duration));
    else if (e.key === '0') onViewChange({ start: 0, span: duration });
    else return;
    e.preventDefault();
  };

  return (
    <div
      ref={wrap}
      className="timeline"
      tabIndex={0}
      role="group"
      aria-label="Speaker timeline. Space plays or pauses, arrow keys seek 5 seconds (with Shift 30), plus and minus zoom, 0 shows the whole meeting."
      onKeyDown={onKeyDown}
      data-testid="timeline"
      data-view-start={view.start}
      data-view-span={view.span}
      data-label-width={labelW}
      data-plot-width={plotW}
      data-lanes-top={LANES_TOP}
      data-lane-height={LANE_H}
      data-lanes={lanes.length}
      data-waveform={peaks ? 'loaded' : 'none'}
    >
      <canvas ref={base} style={{ height }} aria-hidden="true" />
      <canvas
        ref={overlay}
        style={{ height, position: 'absolute', left: 0, top: 0 }}
        data-testid="timeline-canvas"
        aria-hidden="true"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (drag.current = null)}
      />
    </div>
  );
}

function setupCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('Canvas 2D is not available in this browser.');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function drawWave(ctx: CanvasRenderingContext2D, peaks: Peaks, box: { x: number; y: number; w: number; h: number }, t0: number, t1: number, color: string) {
  const mid = box.y + box.h / 2;
  const perPx = (t1 - t0) / box.w;
  ctx.fillStyle = color;
  for (let px = 0; px < box.w; px++) {
    const [lo, hi] = peakRange(peaks, t0 + px * perPx, t0 + (px + 1) * perPx);
    const top = mid - hi * (box.h / 2);
    const bottom = mid - lo * (box.h / 2);
    ctx.fillRect(box.x + px, top, 1, Math.max(1, bottom - top));
  }
}

function ellipsize(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > max) s = s.slice(0, -1);
  return `${s}…`;
}
