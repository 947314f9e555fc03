// The browser's camera: whether it can be used here, which cameras there are, opening one,
// and one frame of it as a JPEG.

/**
 * Why the camera cannot be used on this page, or null when it can. Browsers offer cameras
 * only to secure contexts: the desktop app, http://localhost and HTTPS pages; a `keizoku
 * serve --host` address reached over plain HTTP is not one.
 */
export function cameraUnavailableReason(): 'insecure' | 'unsupported' | null {
  if (!window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices?.getUserMedia) return 'unsupported';
  return null;
}

export interface CameraChoice {
  deviceId: string;
  label: string;
}

/** The video inputs; labels are empty until the user has allowed a camera once. */
export async function listCameras(): Promise<CameraChoice[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((device) => device.kind === 'videoinput').map((device) => ({ deviceId: device.deviceId, label: device.label }));
}

/** Video only: the app never asks for the microphone (the desktop app would refuse it). */
export function openCamera(deviceId: string | null): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    audio: false,
    video: deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
  });
}

export function stopCamera(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/**
 * The video's current frame as a JPEG, scaled down so its longer side is at most `maxSide`;
 * null while the video has no frame yet.
 */
export function grabJpeg(video: HTMLVideoElement, canvas: HTMLCanvasElement, maxSide: number, quality = 0.9): Promise<Blob | null> {
  const { videoWidth: width, videoHeight: height } = video;
  if (width === 0 || height === 0) return Promise.resolve(null);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext('2d');
  if (!context) return Promise.resolve(null);
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}
