import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Playground() {
  useTitle("Playground");
  return <Empty title="Playground">Coming soon.</Empty>;
}
