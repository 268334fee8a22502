/** Previous / next page links of a server-cut list. */
export function Pager({
  label,
  previous,
  next,
  summary,
}: {
  label: string;
  previous: string | undefined;
  next: string | undefined;
  summary: string;
}) {
  return (
    <nav class="pager" aria-label={label}>
      {previous === undefined ? <span class="muted">Previous</span> : <a href={previous}>Previous</a>}
      <span>{summary}</span>
      {next === undefined ? <span class="muted">Next</span> : <a href={next}>Next</a>}
    </nav>
  );
}
