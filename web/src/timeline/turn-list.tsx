'use client';

import { useState, type UIEvent } from 'react';
import { formatPrecise } from '../lib/format';

export interface TurnRow {
  id: string;
  start: number;
  end: number;
  speakerId: string;
}

const ROW_H = 36;
const VISIBLE = 10;
const OVERSCAN = 6;

/**
 * Every turn as a keyboard-reachable row (the canvas is not), windowed: only the rows in view are
 * in the DOM, so a 4-hour meeting's thousands of turns cost nothing.
 */
export function TurnList(props: {
  turns: TurnRow[];
  speakers: { id: string; name: string; color: string }[];
  canEdit: boolean;
  activeId: string | null;
  onPlay: (turn: TurnRow) => void;
  onMove: (turn: TurnRow, toSpeakerId: string) => void;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  const { turns } = props;
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(turns.length, Math.ceil(scrollTop / ROW_H) + VISIBLE + OVERSCAN);
  const byId = new Map(props.speakers.map((s) => [s.id, s]));
  const onScroll = (e: UIEvent<HTMLDivElement>) => setScrollTop(e.currentTarget.scrollTop);
  return (
    <div
      className="turn-list"
      style={{ height: Math.min(turns.length, VISIBLE) * ROW_H + 2, overflowY: 'auto', position: 'relative' }}
      onScroll={onScroll}
      role="list"
      aria-label={`${turns.length} turns`}
    >
      <div style={{ height: turns.length * ROW_H, position: 'relative' }}>
        {turns.slice(first, last).map((turn, k) => {
          const i = first + k;
          const speaker = byId.get(turn.speakerId);
          return (
            <div
              key={turn.id}
              role="listitem"
              className={`turn-row${turn.id === props.activeId ? ' active' : ''}`}
              style={{ position: 'absolute', top: i * ROW_H, height: ROW_H, left: 0, right: 0 }}
            >
              <button
                type="button"
                className="small"
                onClick={() => props.onPlay(turn)}
                aria-label={`Play turn ${i + 1} of ${speaker?.name ?? 'unknown'} from ${formatPrecise(turn.start)}`}
              >
                ▶ {formatPrecise(turn.start)}–{formatPrecise(turn.end)}
              </button>
              <span className="swatch" style={{ background: speaker?.color }} aria-hidden="true" />
              <span className="turn-speaker">{speaker?.name ?? '?'}</span>
              {props.canEdit && (
                <select
                  aria-label={`Move turn ${i + 1} to another speaker`}
                  value=""
                  onChange={(e) => e.target.value && props.onMove(turn, e.target.value)}
                  className="hide-narrow"
                >
                  <option value="">Move to…</option>
                  {props.speakers
                    .filter((s) => s.id !== turn.speakerId)
                    .map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                      </option>
                    ))}
                </select>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
