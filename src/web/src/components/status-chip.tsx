/** Charger and connector statuses, each with a colour, a shape and always its name (never colour alone). */
const KINDS: Record<string, { cls: string; mark: string }> = {
  available: { cls: 'ok', mark: '●' },
  charging: { cls: 'busy', mark: '▲' },
  occupied: { cls: 'busy', mark: '▲' },
  preparing: { cls: 'busy', mark: '▲' },
  finishing: { cls: 'busy', mark: '▲' },
  suspendedev: { cls: 'busy', mark: '▲' },
  suspendedevse: { cls: 'busy', mark: '▲' },
  faulted: { cls: 'bad', mark: '✖' },
  offline: { cls: 'off', mark: '○' },
  unavailable: { cls: 'warn', mark: '■' },
  reserved: { cls: 'warn', mark: '■' },
  online: { cls: 'ok', mark: '●' },
};

export function StatusChip({ status }: { status: string }) {
  const k = KINDS[status.toLowerCase()] ?? { cls: 'off', mark: '◆' };
  return (
    <span class={`chip chip-${k.cls}`} data-status={status}>
      <span aria-hidden="true">{k.mark}</span> {status}
    </span>
  );
}
