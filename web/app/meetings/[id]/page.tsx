import { MeetingView } from '../../../src/timeline/meeting-view';

export default async function MeetingPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ t?: string }> }) {
  const { id } = await params;
  const { t } = await searchParams;
  const startAt = t === undefined ? undefined : Number(t);
  return <MeetingView id={decodeURIComponent(id)} startAt={startAt !== undefined && Number.isFinite(startAt) ? startAt : undefined} />;
}
