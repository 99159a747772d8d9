// A small client written against the generated types: if a change to the API breaks
// what third parties compile against, this file stops type-checking.
import type { paths, components } from "./generated/rest";
import type {
  RecentPostsQuery,
  RecentPostsQueryVariables,
  SignInMutation,
  SignInMutationVariables,
  CommentMutationVariables,
  LiveCommentsSubscription,
} from "./generated/graphql";

type PostPage = components["schemas"]["PostPage"];
type ListPostsResponse =
  paths["/api/posts"]["get"]["responses"]["200"]["content"]["application/json"];

export function titles(response: ListPostsResponse): string[] {
  const page: PostPage = response.data;
  return page.items.map((post) => `${post.title} by ${post.author.username}`);
}

export function loginBody(
  email: string,
  password: string,
): paths["/api/auth/login"]["post"]["requestBody"]["content"]["application/json"] {
  return { email, password };
}

export function graphqlTitles(data: RecentPostsQuery): string[] {
  return data.posts.edges.map((edge) => edge.node.title);
}

export const firstPage: RecentPostsQueryVariables = { first: 20 };

export function token(data: SignInMutation): string {
  return data.login.token;
}

export const signIn: SignInMutationVariables = {
  input: { email: "fan@demo.sparkle.test", password: "Sparkle123" },
};

export const comment: CommentMutationVariables = {
  postId: "01a2",
  input: { content: "At 1:23!", youtubeTimestamp: 83 },
};

export function liveContent(event: LiveCommentsSubscription): string {
  return event.commentAdded.content;
}
