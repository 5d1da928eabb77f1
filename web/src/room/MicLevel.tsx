import { useEffect, useRef } from "react";

/** Loudness 0..1 from time-domain samples: RMS in dBFS mapped from -60..0 dB. */
export function levelOf(samples: Float32Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/**
 * A meter of one's own microphone. It writes to the DOM from requestAnimationFrame directly,
 * so a 60 Hz level does not re-render React.
 */
export function MicLevel({ stream }: { stream: MediaStream }) {
  const meter = useRef<HTMLMeterElement>(null);

  useEffect(() => {
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    const source = context.createMediaStreamSource(stream);
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    void context.resume().catch(() => undefined);
    let frame = 0;
    let smoothed = 0;
    const tick = () => {
      analyser.getFloatTimeDomainData(samples);
      // Fast attack, slow release: the way level meters read naturally.
      const level = levelOf(samples);
      smoothed = level > smoothed ? level : smoothed * 0.9 + level * 0.1;
      const el = meter.current;
      if (el) {
        const value = Math.round(smoothed * 100);
        el.value = value;
        el.setAttribute("aria-valuenow", String(value));
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => {
      cancelAnimationFrame(frame);
      source.disconnect();
      void context.close().catch(() => undefined);
    };
  }, [stream]);

  return (
    <meter
      ref={meter}
      className="mic-level"
      data-testid="mic-level"
      min={0}
      max={100}
      value={0}
      aria-label="Your microphone level"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={0}
    />
  );
}
