import { UploadView } from '../src/upload/upload-view';

export default function HomePage() {
  return <UploadView />;
}
