'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useSession } from './token-context';

const NAV = [
  { href: '/', label: 'Upload', admin: true },
  { href: '/meetings', label: 'Meetings', admin: false },
  { href: '/search', label: 'Search', admin: false },
  { href: '/people', label: 'People', admin: false },
  { href: '/reprocess', label: 'Reprocess', admin: true },
  { href: '/analytics', label: 'Analytics', admin: false },
];

export function Header() {
  const session = useSession();
  const pathname = usePathname();
  const current = (href: string) => (href === '/' ? pathname === '/' : pathname.startsWith(href));
  return (
    <header className="site-header">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Link href="/meetings" className="brand">
        Who spoke when
      </Link>
      <nav aria-label="Main">
        <ul>
          {NAV.filter((item) => !item.admin || session.scope !== 'READ').map((item) => (
            <li key={item.href}>
              <Link href={item.href} aria-current={current(item.href) ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="session">
        {session.token && (
          <>
            <span className="muted" data-testid="session-scope">
              Token “{session.tokenName ?? '?'}” · {session.scope ? `${session.scope.toLowerCase()} access` : 'not checked'}
            </span>
            <button type="button" onClick={session.signOut}>
              Sign out
            </button>
          </>
        )}
      </div>
    </header>
  );
}
