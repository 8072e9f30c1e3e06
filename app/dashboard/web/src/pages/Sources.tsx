import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Sources() {
  useTitle("Sources");
  return <Empty title="Sources">Coming soon.</Empty>;
}
