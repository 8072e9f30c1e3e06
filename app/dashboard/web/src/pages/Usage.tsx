import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Usage() {
  useTitle("Usage");
  return <Empty title="Usage">Coming soon.</Empty>;
}
