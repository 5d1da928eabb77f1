// How the audience is said, wherever it is shown: the listeners off the stage (the server's
// audience_count never counts the stage), and the hands raised among them.

/** "1 person listening", "12 people listening". */
export function listening(count: number): string {
  return `${count} ${count === 1 ? "person" : "people"} listening`;
}

/** "1 hand raised", "3 hands raised": requests to speak, counted (who is for moderators). */
export function handsRaised(count: number): string {
  return `${count} ${count === 1 ? "hand" : "hands"} raised`;
}
