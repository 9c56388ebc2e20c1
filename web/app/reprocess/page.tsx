import { ReprocessView } from '../../src/reprocess/reprocess-view';

export default function ReprocessPage() {
  return <ReprocessView />;
}
