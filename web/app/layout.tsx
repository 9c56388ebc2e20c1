import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Header } from '../src/auth/header';
import { SessionProvider } from '../src/auth/token-context';
import { UploadsProvider } from '../src/upload/uploads-context';
import './globals.css';

export const metadata: Metadata = {
  title: 'Who spoke when — meeting diarization',
  description: 'Upload meeting recordings, explore speaker timelines, enroll people.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SessionProvider>
          <UploadsProvider>
            <Header />
            <main id="main" tabIndex={-1}>
              {children}
            </main>
          </UploadsProvider>
        </SessionProvider>
      </body>
    </html>
  );
}
