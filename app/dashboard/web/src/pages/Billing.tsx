import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Billing() {
  useTitle("Billing");
  return <Empty title="Billing">Coming soon.</Empty>;
}
