import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Conversations() {
  useTitle("Conversations");
  return <Empty title="Conversations">Coming soon.</Empty>;
}
