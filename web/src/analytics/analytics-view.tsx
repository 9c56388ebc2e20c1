'use client';

import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { RequireToken } from '../auth/require-token';
import type { AnalyticsQuery } from '../gql/graphql';
import { formatDuration, formatPercent } from '../lib/format';
import { describeError, request } from '../lib/graphql';
import { describeFilter, FilterForm, toMeetingFilter, useFilterChoices, useSharedFilter } from '../meetings/filter';
import { speakerColor } from '../timeline/palette';
import { analyticsOp } from './analytics.operations';

export function AnalyticsView() {
  return (
    <RequireToken>
      <Analytics />
    </RequireToken>
  );
}

function Analytics() {
  const [filter, setFilter] = useSharedFilter();
  const choices = useFilterChoices();
  const [data, setData] = useState<AnalyticsQuery | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    request(analyticsOp, { filter: toMeetingFilter(filter) })
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((err) => setError(describeError(err)));
  }, [filter]);

  const s = data?.stats;
  // Minutes read badly for short recordings (0.21 min): seconds below two minutes.
  const inMinutes = (s?.people ?? []).some((p) => p.talkTimeSeconds >= 120);
  const unit = inMinutes ? 'minutes' : 'seconds';
  const people = (s?.people ?? []).map((p, i) => ({
    name: p.name,
    talk: +(inMinutes ? p.talkTimeSeconds / 60 : p.talkTimeSeconds).toFixed(inMinutes ? 2 : 1),
    sharePct: +(p.share * 100).toFixed(1),
    turns: p.turns,
    interruptions: p.interruptions,
    color: speakerColor(i),
  }));
  const perMeeting = (data?.meetings.nodes ?? []).map((m) => ({
    title: m.title.length > 24 ? `${m.title.slice(0, 23)}…` : m.title,
    overlapSec: +m.stats.overlapSeconds.toFixed(1),
    interruptions: m.stats.interruptions,
    turns: m.stats.turns,
  }));

  return (
    <>
      <h1>Analytics</h1>
      <FilterForm value={filter} onApply={setFilter} choices={choices} />
      <p className="muted">For {describeFilter(filter, choices?.people)}.</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {s && (
        <div className="stat-grid" style={{ marginBottom: 16 }} data-testid="analytics-summary">
          <div className="stat">
            <b>{s.meetings}</b>meetings
          </div>
          <div className="stat">
            <b>{formatDuration(s.durationSeconds)}</b>recorded
          </div>
          <div className="stat">
            <b>{formatDuration(s.speechSeconds)}</b>speech
          </div>
          <div className="stat">
            <b>{s.turns}</b>turns
          </div>
          <div className="stat">
            <b>{s.interruptions}</b>interruptions
          </div>
          <div className="stat">
            <b>{formatDuration(s.overlapSeconds)}</b>overlap
          </div>
          <div className="stat">
            <b>{formatPercent(s.silenceRatio)}</b>silence
          </div>
        </div>
      )}
      {s && people.length > 0 && (
        <div className="chart-grid">
          <ChartCard title="Talk-time share" summary={people.map((p) => `${p.name} ${p.sharePct}%`).join(', ')}>
            <PieChart>
              <Pie data={people} dataKey="sharePct" nameKey="name" outerRadius="75%" label={({ name, value }) => `${name} ${value}%`} isAnimationActive={false}>
                {people.map((p) => (
                  <Cell key={p.name} fill={p.color} />
                ))}
              </Pie>
              <Tooltip formatter={(v) => `${v}%`} />
            </PieChart>
          </ChartCard>
          <ChartCard title={`Talk time (${unit})`} summary={people.map((p) => `${p.name} ${p.talk} ${unit}`).join(', ')}>
            <BarChart data={people} layout="vertical" margin={{ top: 12, left: 16, right: 16 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis type="number" />
              <YAxis type="category" dataKey="name" width={110} />
              <Tooltip />
              <Bar dataKey="talk" name={unit === 'minutes' ? 'Minutes' : 'Seconds'} isAnimationActive={false}>
                {people.map((p) => (
                  <Cell key={p.name} fill={p.color} />
                ))}
              </Bar>
            </BarChart>
          </ChartCard>
          <ChartCard
            title="Turns and interruptions per person"
            summary={people.map((p) => `${p.name}: ${p.turns} turns, ${p.interruptions} interruptions`).join('; ')}
          >
            <BarChart data={people} margin={{ top: 12, left: 0, right: 16 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="name" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="turns" name="Turns" fill="#4e79a7" isAnimationActive={false} />
              <Bar dataKey="interruptions" name="Interruptions" fill="#e15759" isAnimationActive={false} />
            </BarChart>
          </ChartCard>
          <ChartCard
            title="Overlap and interruptions per meeting"
            summary={perMeeting.map((m) => `${m.title}: ${m.overlapSec} s overlap, ${m.interruptions} interruptions`).join('; ')}
          >
            <BarChart data={perMeeting} margin={{ top: 12, left: 0, right: 16 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="title" />
              <YAxis />
              <Tooltip />
              <Legend />
              <Bar dataKey="overlapSec" name="Overlap (s)" fill="#f28e2b" isAnimationActive={false} />
              <Bar dataKey="interruptions" name="Interruptions" fill="#b07aa1" isAnimationActive={false} />
            </BarChart>
          </ChartCard>
        </div>
      )}
      {s && people.length === 0 && <p className="card">No speech in the meetings of this filter yet.</p>}
    </>
  );
}

function ChartCard({ title, summary, children }: { title: string; summary: string; children: React.ReactElement }) {
  return (
    <figure className="card" style={{ margin: 0 }}>
      <figcaption>
        <strong>{title}</strong>
      </figcaption>
      <div style={{ width: '100%', height: 260 }}>
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
      {/* The same figures as text, for screen readers. */}
      <p className="sr-only">{summary}</p>
    </figure>
  );
}
