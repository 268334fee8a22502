import { useState } from 'preact/hooks';

/** A block of text to paste elsewhere, with a copy button. */
export function CopyBlock({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="copy-block">
      <div class="copy-head">
        <span>{label}</span>
        <button type="button" class="small" onClick={() => void copy()} aria-label={`Copy ${label}`}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre class="code" tabIndex={0} aria-label={label}>
        {text}
      </pre>
    </div>
  );
}
