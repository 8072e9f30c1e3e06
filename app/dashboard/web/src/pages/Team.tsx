import { useTitle } from "../lib/hooks";
import { Empty } from "../ui";

export function Team() {
  useTitle("Team");
  return <Empty title="Team">Coming soon.</Empty>;
}
