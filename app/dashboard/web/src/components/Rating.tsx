import type { Schemas } from "../api/client";
import { Badge } from "../ui";
import { Thumb } from "./Thumb";

/** A thumbs up or down on an answer, with its comment. */
export function Rating({ feedback }: { feedback: Schemas["MessageFeedbackOut"] }) {
  const up = feedback.rating === "up";
  return (
    <div className="rating">
      <Badge tone={feedback.rating}>
        <Thumb rating={feedback.rating} /> {up ? "Rated helpful" : "Rated not helpful"}
      </Badge>
      {feedback.comment && <blockquote className="rating-comment">“{feedback.comment}”</blockquote>}
    </div>
  );
}
