import { MeetingView } from '../../../src/timeline/meeting-view';

export default async function MeetingPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <MeetingView id={decodeURIComponent(id)} />;
}
