//! Each post keeps the ids of its tags, so showing a post's tags reads no link table.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    TagIds,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTags {
    Table,
    PostId,
    TagId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .add_column(ColumnDef::new(Posts::TagIds).text().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        // Existing posts: the ids of the tags they are linked to, comma-separated.
        let tag_id = Expr::col(PostTags::TagId);
        let joined = match manager.get_database_backend() {
            DbBackend::Postgres => Func::cust("string_agg").arg(tag_id).arg(","),
            _ => Func::cust("group_concat").arg(tag_id),
        };
        let linked = Query::select()
            .expr(joined)
            .from(PostTags::Table)
            .and_where(
                Expr::col((PostTags::Table, PostTags::PostId)).equals((Posts::Table, Posts::Id)),
            )
            .to_owned();
        let tag_ids =
            Func::coalesce([Expr::SubQuery(None, Box::new(linked.into())), Expr::val("")]);
        manager
            .exec_stmt(
                Query::update()
                    .table(Posts::Table)
                    .value(Posts::TagIds, tag_ids)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Posts::Table)
                    .drop_column(Posts::TagIds)
                    .to_owned(),
            )
            .await
    }
}
