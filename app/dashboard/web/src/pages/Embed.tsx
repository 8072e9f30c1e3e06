import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Embed() {
  useTitle("Embed");
  return <Empty title="Embed">Coming soon.</Empty>;
}
