import { MeetingsView } from '../../src/meetings/meetings-view';

export default function MeetingsPage() {
  return <MeetingsView />;
}
