import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Analytics() {
  useTitle("Analytics");
  return <Empty title="Analytics">Coming soon.</Empty>;
}
