const numberFormat = new Intl.NumberFormat("en-US");

export const formatNumber = (n: number | null | undefined) => numberFormat.format(n ?? 0);

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function formatDay(iso: string): string {
  return new Date(`${iso.slice(0, 10)}T00:00:00Z`).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A price per 1,000 tokens, in dollars. Prices carry six decimals and are often fractions of a
 * cent: they show as many decimals as they need, and at least two ($0.00, $0.0005, $1.50), like
 * the invoice's printable page; rounding to the cent would show a real price as free. */
export function formatPrice(price: string | number): string {
  const [whole, decimals = ""] = Number(price).toFixed(6).split(".");
  return `$${whole}.${decimals.replace(/0+$/, "").padEnd(2, "0")}`;
}

export const formatScore = (score: number) => score.toFixed(2);

export function pluralize(n: number, one: string, many = `${one}s`) {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}
