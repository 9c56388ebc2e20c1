import { AnalyticsView } from '../../src/analytics/analytics-view';

export default function AnalyticsPage() {
  return <AnalyticsView />;
}
