import { ApiError, authHeaders } from './graphql';

export interface UploadHandle {
  promise: Promise<string>;
  abort: () => void;
}

/**
 * Sends one file (and its optional transcript) to /api/uploads (streamed through to the server) and
 * resolves with the upload id.
 * XMLHttpRequest, because fetch reports no upload progress.
 */
export function uploadFile(file: File, onProgress: (sent: number, total: number) => void, transcript?: File): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<string>((resolve, reject) => {
    xhr.open('POST', '/api/uploads');
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size + (transcript?.size ?? 0));
    xhr.onerror = () => reject(new ApiError('The upload was interrupted (network error). Check the connection and retry.', 'NETWORK'));
    xhr.onabort = () => reject(new ApiError('Upload cancelled.', 'CANCELLED'));
    xhr.onload = () => {
      let body: { id?: string; error?: { code: string; message: string } } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Handled below: a non-JSON answer is reported with its status.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body.id) resolve(body.id);
      else if (body.error) reject(new ApiError(body.error.message, body.error.code, xhr.status));
      else reject(new ApiError(`The server answered HTTP ${xhr.status} to the upload.`, 'HTTP_ERROR', xhr.status));
    };
    const form = new FormData();
    // The transcript first: it is small, and the server checks it against the recording after both arrive.
    if (transcript) form.append('transcript', transcript, transcript.name);
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
