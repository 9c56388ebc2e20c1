import { SearchView } from '../../src/transcript/search-view';

export default function SearchPage() {
  return <SearchView />;
}
