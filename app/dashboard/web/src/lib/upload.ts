import { type ApiError, authHeaders, NETWORK_ERROR, toApiError, type Schemas } from "../api/client";

/**
 * Uploads one file with XMLHttpRequest, which (unlike fetch) reports upload progress.
 * Files go one per request so that each gets its own progress and its own error: the API rejects
 * a whole batch when one of its files is bad.
 */
export function uploadFile(
  chatbotId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<Schemas["UploadOut"]> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/upload/${chatbotId}`);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new Error(NETWORK_ERROR));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON: the status explains it */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve((body as Schemas["UploadOut"][])[0]);
        return;
      }
      const response = new Response(null, { status: xhr.status });
      Object.defineProperty(response, "url", { value: xhr.responseURL });
      reject(toApiError(response, body) as ApiError);
    };
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
