'use client';

import { createContext, useContext, type ReactNode } from 'react';
import { useUploads } from './use-uploads';

// Held above the pages, so transfers and job progress carry on (and stay listed) while the person
// browses elsewhere and comes back to the upload page.
const UploadsContext = createContext<ReturnType<typeof useUploads> | null>(null);

export function UploadsProvider({ children }: { children: ReactNode }) {
  return <UploadsContext.Provider value={useUploads()}>{children}</UploadsContext.Provider>;
}

export function useUploadsContext(): ReturnType<typeof useUploads> {
  const value = useContext(UploadsContext);
  if (!value) throw new Error('useUploadsContext outside <UploadsProvider>');
  return value;
}
