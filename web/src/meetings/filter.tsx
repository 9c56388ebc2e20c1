'use client';

import { useEffect, useState, type FormEvent } from 'react';
import type { FilterChoicesQuery, MeetingFilter } from '../gql/graphql';
import { request } from '../lib/graphql';
import { filterChoicesOp } from './meetings.operations';

/** The filter as typed in the form; shared by Meetings, Reprocess and Analytics ("the current filter"). */
export interface FilterFields {
  text: string;
  tag: string;
  personId: string;
  from: string; // yyyy-mm-dd
  to: string;
}

export const EMPTY_FILTER: FilterFields = { text: '', tag: '', personId: '', from: '', to: '' };
const KEY = 'diarization.filter';

export function toMeetingFilter(f: FilterFields): MeetingFilter {
  const filter: MeetingFilter = {};
  if (f.text.trim()) filter.text = f.text.trim();
  if (f.tag) filter.tag = f.tag;
  if (f.personId) filter.personId = f.personId;
  if (f.from) filter.createdFrom = new Date(`${f.from}T00:00:00`).toISOString();
  // Inclusive end date: up to the end of that day.
  if (f.to) filter.createdTo = new Date(`${f.to}T23:59:59.999`).toISOString();
  return filter;
}

export function describeFilter(f: FilterFields, people: { id: string; name: string }[] = []): string {
  const parts: string[] = [];
  if (f.text.trim()) parts.push(`title contains "${f.text.trim()}"`);
  if (f.tag) parts.push(`tag ${f.tag}`);
  if (f.personId) parts.push(`with ${people.find((p) => p.id === f.personId)?.name ?? 'a person'}`);
  if (f.from) parts.push(`from ${f.from}`);
  if (f.to) parts.push(`to ${f.to}`);
  return parts.length ? parts.join(', ') : 'all meetings';
}

/** The current filter, kept for the browser tab's session. */
export function useSharedFilter(): [FilterFields, (f: FilterFields) => void] {
  const [filter, setFilter] = useState<FilterFields>(EMPTY_FILTER);
  useEffect(() => {
    const saved = window.sessionStorage.getItem(KEY);
    if (saved) {
      try {
        setFilter({ ...EMPTY_FILTER, ...(JSON.parse(saved) as Partial<FilterFields>) });
      } catch {
        window.sessionStorage.removeItem(KEY);
      }
    }
  }, []);
  const update = (f: FilterFields) => {
    window.sessionStorage.setItem(KEY, JSON.stringify(f));
    setFilter(f);
  };
  return [filter, update];
}

export function useFilterChoices(): FilterChoicesQuery | null {
  const [choices, setChoices] = useState<FilterChoicesQuery | null>(null);
  useEffect(() => {
    request(filterChoicesOp, {})
      .then(setChoices)
      .catch(() => setChoices({ tags: [], people: [] }));
  }, []);
  return choices;
}

export function FilterForm({ value, onApply, choices }: { value: FilterFields; onApply: (f: FilterFields) => void; choices: FilterChoicesQuery | null }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const set = (field: keyof FilterFields, v: string) => setDraft((d) => ({ ...d, [field]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  return (
    <form className="row card" onSubmit={submit} role="search" aria-label="Filter meetings">
      <div className="field">
        <label htmlFor="f-text">Title contains</label>
        <input id="f-text" type="search" value={draft.text} onChange={(e) => set('text', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-tag">Tag</label>
        <select id="f-tag" value={draft.tag} onChange={(e) => set('tag', e.target.value)}>
          <option value="">Any</option>
          {choices?.tags.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-person">Person</label>
        <select id="f-person" value={draft.personId} onChange={(e) => set('personId', e.target.value)}>
          <option value="">Anyone</option>
          {choices?.people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-from">From</label>
        <input id="f-from" type="date" value={draft.from} onChange={(e) => set('from', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-to">To</label>
        <input id="f-to" type="date" value={draft.to} onChange={(e) => set('to', e.target.value)} />
      </div>
      <button type="submit" className="primary">
        Apply
      </button>
      <button
        type="button"
        onClick={() => {
          setDraft(EMPTY_FILTER);
          onApply(EMPTY_FILTER);
        }}
      >
        Clear
      </button>
    </form>
  );
}
